// Folders and files dragged onto a view or dialog: one set of drag handlers for every drop target. While something
// is dragged over, `dragging` is true (the target shows its hint); a drop becomes paths through the client (the web
// host first copies the files into the project, counted in `uploading`), which go to `take`.
import { client } from './client'
import { attempt } from './state.svelte'

export class FileDrop {
  dragging = $state(false)
  /** Files copied so far while the web host uploads a drop; null when no drop is being copied. */
  uploading = $state<{ done: number; total: number } | null>(null)

  /** `enabled`: whether the target takes a drop now (a view with nothing to drop into refuses it). */
  constructor(
    private readonly take: (paths: string[]) => unknown,
    private readonly enabled: () => boolean = () => true
  ) {}

  /** Spread on the target element: `<section {...drop.handlers}>`. */
  readonly handlers = {
    ondragover: (e: DragEvent) => {
      if (!this.enabled()) return
      e.preventDefault()
      this.dragging = true
    },
    ondragleave: (e: DragEvent) => {
      if (e.currentTarget === e.target) this.dragging = false
    },
    ondrop: async (e: DragEvent) => {
      e.preventDefault()
      this.dragging = false
      if (!this.enabled() || !e.dataTransfer) return
      const transfer = e.dataTransfer
      this.uploading = { done: 0, total: 0 }
      const paths = await attempt(() => client.resolveDrop(transfer, (done, total) => (this.uploading = { done, total })))
      this.uploading = null
      if (paths?.length) await this.take(paths)
    }
  }
}
