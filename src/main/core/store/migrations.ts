// Append-only, numbered schema migrations. Never edit one that has shipped: add the next number.
// `PRAGMA user_version` holds the number of the last one applied.
import type Database from 'better-sqlite3'
import { seedTrimapSettings } from '../../../shared/bounds'

export interface Migration {
  version: number
  name: string
  up(db: Database.Database): void
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'project metadata and jobs',
    up(db) {
      db.exec(`
        CREATE TABLE project (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          name TEXT NOT NULL,
          created_at TEXT NOT NULL,
          app_version TEXT NOT NULL
        );
        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          title TEXT NOT NULL,
          params TEXT NOT NULL DEFAULT '{}',
          status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
          done INTEGER NOT NULL DEFAULT 0,
          total INTEGER NOT NULL DEFAULT 0,
          message TEXT,
          error TEXT,
          result TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT,
          -- host:pid of the process that runs it, so a restart can tell crashed jobs from live ones
          owner TEXT
        );
        CREATE INDEX jobs_by_status ON jobs(status);
      `)
    }
  },
  {
    version: 2,
    name: 'datasets, photos, masks, import problems',
    up(db) {
      db.exec(`
        CREATE TABLE datasets (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE COLLATE NOCASE,
          created_at TEXT NOT NULL,
          px_per_mm REAL CHECK (px_per_mm IS NULL OR px_per_mm > 0)
        );
        -- Photos are copied into the project under photos/ by content hash; the same file in two
        -- datasets is stored once.
        CREATE TABLE photos (
          id INTEGER PRIMARY KEY,
          dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          file TEXT NOT NULL,
          thumbnail TEXT NOT NULL,
          hash TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          source_path TEXT,
          split TEXT CHECK (split IN ('train','val','test')),
          imported_at TEXT NOT NULL,
          UNIQUE (dataset_id, hash)
        );
        CREATE INDEX photos_by_dataset_name ON photos(dataset_id, name);
        CREATE TABLE masks (
          photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
          file TEXT NOT NULL,
          instances_file TEXT,
          hash TEXT NOT NULL,
          source TEXT NOT NULL CHECK (source IN ('folder','labelbox','coco','drawn','predicted')),
          foreground REAL NOT NULL,
          model_made INTEGER NOT NULL DEFAULT 0,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE import_problems (
          id INTEGER PRIMARY KEY,
          dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
          path TEXT NOT NULL,
          reason TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
      `)
    }
  },
  {
    version: 3,
    name: 'trimaps and alpha mattes',
    up(db) {
      db.exec(`
        -- The trimap settings a user last applied to a dataset (the seed's defaults until then).
        ALTER TABLE datasets ADD COLUMN trimap_kernel INTEGER NOT NULL DEFAULT ${seedTrimapSettings.kernelSize};
        ALTER TABLE datasets ADD COLUMN trimap_fg_iterations INTEGER NOT NULL DEFAULT ${seedTrimapSettings.fgIterations};
        ALTER TABLE datasets ADD COLUMN trimap_bg_iterations INTEGER NOT NULL DEFAULT ${seedTrimapSettings.bgIterations};
        -- Each records the mask it was made from (mask_hash): when the mask changes it is stale.
        CREATE TABLE trimaps (
          photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
          file TEXT NOT NULL,
          kernel INTEGER NOT NULL,
          fg_iterations INTEGER NOT NULL,
          bg_iterations INTEGER NOT NULL,
          mask_hash TEXT NOT NULL,
          unknown_pixels INTEGER NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE mattes (
          photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
          file TEXT NOT NULL,
          cutout_file TEXT,
          kernel INTEGER NOT NULL,
          fg_iterations INTEGER NOT NULL,
          bg_iterations INTEGER NOT NULL,
          mask_hash TEXT NOT NULL,
          seconds REAL NOT NULL,
          created_at TEXT NOT NULL
        );
      `)
    }
  },
  {
    version: 4,
    name: 'training runs, their frozen dataset snapshots and per-epoch metrics',
    up(db) {
      db.exec(`
        -- A run keeps its dataset's name and a snapshot of its photos, so it stays readable and
        -- comparable after the dataset changes or is deleted. Checkpoints live under runs/<id>/.
        CREATE TABLE runs (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          notes TEXT NOT NULL DEFAULT '',
          dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
          dataset_name TEXT NOT NULL,
          -- 'running' while a job trains it; a run whose job is gone reads as interrupted
          status TEXT NOT NULL CHECK (status IN ('running','completed','cancelled','failed')),
          config TEXT NOT NULL,
          backend TEXT,
          device TEXT,
          backend_reason TEXT,
          job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
          created_at TEXT NOT NULL,
          finished_at TEXT,
          error TEXT,
          stopped_early INTEGER NOT NULL DEFAULT 0,
          best_epoch INTEGER,
          best_model TEXT,
          last_model TEXT
        );
        CREATE TABLE run_photos (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          -- no foreign key: the snapshot outlives the photo record
          photo_id INTEGER NOT NULL,
          name TEXT NOT NULL,
          photo_file TEXT NOT NULL,
          photo_hash TEXT NOT NULL,
          -- the mask as it was when the run started, copied under runs/<id>/masks/
          mask_file TEXT NOT NULL,
          mask_hash TEXT NOT NULL,
          split TEXT NOT NULL CHECK (split IN ('train','val')),
          PRIMARY KEY (run_id, photo_id)
        );
        CREATE TABLE run_epochs (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          epoch INTEGER NOT NULL,
          train_loss REAL NOT NULL,
          train_accuracy REAL NOT NULL,
          train_iou REAL NOT NULL,
          train_dice REAL NOT NULL,
          train_precision REAL NOT NULL,
          train_recall REAL NOT NULL,
          val_loss REAL NOT NULL,
          val_accuracy REAL NOT NULL,
          val_iou REAL NOT NULL,
          val_dice REAL NOT NULL,
          val_precision REAL NOT NULL,
          val_recall REAL NOT NULL,
          seconds REAL NOT NULL,
          best INTEGER NOT NULL,
          PRIMARY KEY (run_id, epoch)
        );
      `)
    }
  },
  {
    version: 5,
    name: 'evaluations, prediction batches and their measurements',
    up(db) {
      db.exec(`
        CREATE TABLE evaluations (
          id INTEGER PRIMARY KEY,
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          checkpoint TEXT NOT NULL CHECK (checkpoint IN ('best','last')),
          source TEXT NOT NULL CHECK (source IN ('val','test','dataset')),
          dataset_name TEXT NOT NULL,
          job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
          created_at TEXT NOT NULL
        );
        -- Per photo: where its probabilities are, and their histogram split by the truth (leaf /
        -- background), from which the figures at any threshold follow without re-reading pixels.
        CREATE TABLE evaluation_photos (
          evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
          photo_id INTEGER NOT NULL,
          name TEXT NOT NULL,
          photo_file TEXT NOT NULL,
          mask_file TEXT NOT NULL,
          probability_file TEXT NOT NULL,
          histogram TEXT NOT NULL,
          PRIMARY KEY (evaluation_id, photo_id)
        );
        CREATE TABLE prediction_batches (
          id INTEGER PRIMARY KEY,
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          checkpoint TEXT NOT NULL CHECK (checkpoint IN ('best','last')),
          source TEXT NOT NULL CHECK (source IN ('folder','dataset')),
          source_name TEXT NOT NULL,
          dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
          threshold REAL NOT NULL,
          cutouts INTEGER NOT NULL,
          min_leaf_area_px INTEGER NOT NULL,
          px_per_mm REAL,
          job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE predicted_photos (
          id INTEGER PRIMARY KEY,
          batch_id INTEGER NOT NULL REFERENCES prediction_batches(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          source_path TEXT,
          photo_id INTEGER,
          photo_file TEXT,
          mask_file TEXT NOT NULL,
          probability_file TEXT NOT NULL,
          cutout_file TEXT,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          area_px INTEGER NOT NULL,
          area_mm2 REAL,
          foreground_fraction REAL NOT NULL,
          leaf_count INTEGER NOT NULL,
          noise_px INTEGER NOT NULL,
          accepted INTEGER NOT NULL DEFAULT 0
        );
      `)
    }
  },
  {
    version: 6,
    name: 'the GPU worker a run trained on (renderer string and limits)',
    up(db) {
      // JSON of the GPU worker's hello (backend, renderer, software, texture/buffer limits); NULL when it did not compute.
      db.exec(`ALTER TABLE runs ADD COLUMN gpu TEXT`)
    }
  },
  {
    version: 7,
    name: 'prediction batches that survive: photo hashes, problems, photos in all',
    up(db) {
      db.exec(`
        -- A resumed batch skips the photos it already has, by content hash (the batch fixes the run).
        ALTER TABLE predicted_photos ADD COLUMN photo_hash TEXT;
        -- Shape and colour traits (JSON): of all the photo's leaves together, and of each leaf.
        ALTER TABLE predicted_photos ADD COLUMN traits TEXT;
        ALTER TABLE predicted_photos ADD COLUMN leaf_traits TEXT;
        CREATE INDEX predicted_photos_by_hash ON predicted_photos (batch_id, photo_hash);
        -- Photos in the batch's source when its last job started (null before this version).
        ALTER TABLE prediction_batches ADD COLUMN total INTEGER;
        -- Photos that failed in the batch's last job, with the reason; a resume tries them again.
        CREATE TABLE prediction_problems (
          id INTEGER PRIMARY KEY,
          batch_id INTEGER NOT NULL REFERENCES prediction_batches(id) ON DELETE CASCADE,
          path TEXT NOT NULL,
          reason TEXT NOT NULL
        );
      `)
    }
  },
  {
    version: 8,
    name: 'who made each mask; a model-made mask keeps its run, its probabilities and how unsure the run was',
    up(db) {
      db.exec(`
        -- source says where the file came from; made_by says who made the mask (see MaskMadeBy), and
        -- model_made stays the flag "no person has checked it yet".
        ALTER TABLE masks ADD COLUMN made_by TEXT NOT NULL DEFAULT 'imported'
          CHECK (made_by IN ('imported','drawn','assisted','model-made','model-corrected'));
        UPDATE masks SET made_by = CASE source WHEN 'drawn' THEN 'drawn' WHEN 'predicted' THEN 'model-made' ELSE 'imported' END;
        ALTER TABLE masks ADD COLUMN made_by_run INTEGER REFERENCES runs(id) ON DELETE SET NULL;
        -- the run's probabilities for the photo (8-bit PNG), what the model assist starts from
        ALTER TABLE masks ADD COLUMN probability_file TEXT;
        -- share of the photo's pixels the run gave a probability between 0.2 and 0.8: the review queue's order
        ALTER TABLE masks ADD COLUMN uncertainty REAL;
      `)
    }
  },
  {
    version: 9,
    name: 'trimaps fitted to the leaves by default; finished jobs a person cleared from the jobs panel',
    up(db) {
      db.exec(`
        -- 'auto' fits the unknown band to each photo's leaves; the kernel and iteration columns are the 'fixed' values.
        -- Datasets still on the seed's values get 'auto' (those values erase seedlings' leaves); chosen values stay.
        ALTER TABLE datasets ADD COLUMN trimap_mode TEXT NOT NULL DEFAULT 'auto' CHECK (trimap_mode IN ('auto','fixed'));
        UPDATE datasets SET trimap_mode = 'fixed'
          WHERE NOT (trimap_kernel = ${seedTrimapSettings.kernelSize} AND trimap_fg_iterations = ${seedTrimapSettings.fgIterations} AND trimap_bg_iterations = ${seedTrimapSettings.bgIterations});
        ALTER TABLE jobs ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;
      `)
    }
  },
  {
    version: 10,
    name: 'the leaf count of masks that carry leaf instances',
    up(db) {
      // Leaves in the mask's instance file (NULL when it has none). Instance files written before this version
      // used another format: they are dropped, and importing the masks again brings them back.
      db.exec(`
        ALTER TABLE masks ADD COLUMN leaves INTEGER CHECK (leaves IS NULL OR leaves >= 0);
        UPDATE masks SET instances_file = NULL;
      `)
    }
  },
  {
    version: 11,
    name: "an evaluation of a run that separates leaves keeps each photo's leaf measures (SBD, DiC, FBD)",
    up(db) {
      db.exec(`
        -- JSON {sbd, dic, fbd, predicted, truth} at threshold 0.5; null for binary runs and photos without leaf instances
        ALTER TABLE evaluation_photos ADD COLUMN instances TEXT;
      `)
    }
  },
  {
    version: 12,
    name: 'mask versions, so a save names the one it replaces; files being written, so clean-up leaves them',
    up(db) {
      db.exec(`
        -- 1 for the first mask of a photo, one more for each save; a save naming an older one is refused.
        ALTER TABLE masks ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        -- A file a process is writing and about to record (project-relative path): clean-up, in any process,
        -- leaves it alone. The writer removes its row once the record names the file; a crashed writer's row
        -- expires (see store/pending.ts).
        CREATE TABLE pending_files (
          path TEXT PRIMARY KEY,
          pid INTEGER NOT NULL,
          started_at TEXT NOT NULL
        );
      `)
    }
  },
  {
    version: 13,
    name: 'a predicted photo of a run that separates leaves keeps its leaves',
    up(db) {
      db.exec(`
        -- project-relative leaf-id PNG (0 = background, 1..n) beside the predicted mask; null for binary runs
        ALTER TABLE predicted_photos ADD COLUMN leaves_file TEXT;
      `)
    }
  },
  {
    version: 14,
    name: 'what the views last used (the training form, the runs chosen to label and to predict with), kept with the project',
    up(db) {
      db.exec(`
        -- one JSON value a key (store/preferences.ts); a value the app no longer understands is ignored, never fatal
        CREATE TABLE preferences (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
      `)
    }
  },
  {
    version: 15,
    name: 'strokes and the pixel classifier trained from them; masks a classifier made',
    up(db) {
      db.exec(`
        -- A photo's strokes: a project-relative gray PNG of the photo's size, 0 = none, 1 = leaf, 2 = background.
        CREATE TABLE strokes (
          photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
          dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          file TEXT NOT NULL,
          leaf_pixels INTEGER NOT NULL,
          background_pixels INTEGER NOT NULL,
          version INTEGER NOT NULL DEFAULT 1,
          updated_at TEXT NOT NULL
        );
        CREATE INDEX strokes_by_dataset ON strokes (dataset_id);
        -- One per dataset: the saved forest (labelling/classifier-files.ts) and what it learned from.
        CREATE TABLE pixel_classifiers (
          dataset_id INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
          file TEXT NOT NULL,
          -- JSON {sigmas, features, trees, maxDepth, maxFeaturePixels}
          settings TEXT NOT NULL,
          photos INTEGER NOT NULL,
          leaf_pixels INTEGER NOT NULL,
          background_pixels INTEGER NOT NULL,
          train_ms INTEGER NOT NULL,
          trained_at TEXT NOT NULL
        );
        -- A model-made mask from the dataset's pixel classifier (its probabilities in probability_file, its
        -- unsure share in uncertainty): reviewed like a run's.
        ALTER TABLE masks ADD COLUMN made_by_classifier INTEGER NOT NULL DEFAULT 0;
      `)
    }
  }
]

export const latestSchemaVersion = migrations[migrations.length - 1].version
