// How each kind of layer is drawn over a photo. Layers are gray images (mask, trimap, alpha, probability,
// leaf ids) or ready-made RGBA overlays (error maps); each becomes an RGBA canvas once, then only opacity changes.

export type LayerKind = 'mask' | 'trimap' | 'alpha' | 'probability' | 'leaves' | 'rgba'

/**
 * A distinct colour for leaf `id` (1, 2, …): hues a golden angle apart, so neighbouring ids never look alike,
 * with two lightness levels alternating. The inspector's Leaves layer and the mask editor use the same colours.
 */
export function leafColour(id: number): [number, number, number] {
  const h = ((id * 137.508) % 360) / 60
  const l = id % 2 ? 0.55 : 0.42
  const c = (1 - Math.abs(2 * l - 1)) * 0.9
  const x = c * (1 - Math.abs((h % 2) - 1))
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x]
  const m = l - c / 2
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)]
}

export interface InspectorLayer {
  id: string
  label: string
  kind: LayerKind
  /** URL of the layer image; null while it does not exist yet. */
  url: string | null
  /** Shown when url is null: how to make this layer. */
  hint?: string
  /** What the colours mean, shown while the layer is chosen ('rgba' layers draw their own colours). */
  legend?: { colour: string; label: string }[]
  /** A line under the legend (what the layer was computed with). */
  note?: string
}

export interface LayerStyle {
  colour: [number, number, number]
  outline: boolean
}

export interface DecodedLayer {
  width: number
  height: number
  /** First channel of the source (gray value per pixel), for the readout under the cursor. */
  values: Uint8ClampedArray
  /** RGBA source pixels, kept for 'rgba' layers. */
  rgba: Uint8ClampedArray
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

export async function decodeLayer(url: string): Promise<DecodedLayer> {
  const img = new Image()
  // Pixels are read back below: in the desktop app project files come from another origin (leafseg-file:),
  // which serves them with CORS so the canvas stays readable.
  img.crossOrigin = 'anonymous'
  img.src = url
  await img.decode()
  const canvas = document.createElement('canvas')
  canvas.width = img.naturalWidth
  canvas.height = img.naturalHeight
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!
  ctx.drawImage(img, 0, 0)
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data
  const values = new Uint8ClampedArray(canvas.width * canvas.height)
  for (let i = 0; i < values.length; i++) values[i] = rgba[i * 4]
  return { width: canvas.width, height: canvas.height, values, rgba }
}

/** The RGBA overlay for a layer, as a canvas the size of the photo. */
export function renderLayer(layer: DecodedLayer, kind: LayerKind, style: LayerStyle): HTMLCanvasElement {
  const { width, height, values } = layer
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d')!
  const out = ctx.createImageData(width, height)
  const px = out.data
  const [r, g, b] = style.colour
  const set = (i: number, cr: number, cg: number, cb: number, a: number) => {
    px[i * 4] = cr
    px[i * 4 + 1] = cg
    px[i * 4 + 2] = cb
    px[i * 4 + 3] = a
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      const v = values[i]
      switch (kind) {
        case 'mask': {
          if (v < 128) break
          if (style.outline) {
            // Outline: leaf pixels with a background 4-neighbour (the image border counts as background).
            const edge =
              x === 0 ||
              y === 0 ||
              x === width - 1 ||
              y === height - 1 ||
              values[i - 1] < 128 ||
              values[i + 1] < 128 ||
              values[i - width] < 128 ||
              values[i + width] < 128
            if (edge) set(i, r, g, b, 255)
          } else set(i, r, g, b, 255)
          break
        }
        case 'trimap':
          // Background dimmed, unknown band in amber, definite foreground in the mask colour.
          if (v === 0) set(i, 0, 0, 0, 170)
          else if (v === 255) set(i, r, g, b, 200)
          else set(i, 255, 176, 0, 230)
          break
        case 'leaves': {
          // Each leaf its own colour; with the outline, only the pixels where a leaf meets another or the background.
          if (v === 0) break
          const edge =
            x === 0 ||
            y === 0 ||
            x === width - 1 ||
            y === height - 1 ||
            values[i - 1] !== v ||
            values[i + 1] !== v ||
            values[i - width] !== v ||
            values[i + width] !== v
          if (style.outline && !edge) break
          const [lr, lg, lb] = leafColour(v)
          set(i, lr, lg, lb, 255)
          break
        }
        case 'alpha':
        case 'probability':
          set(i, r, g, b, v)
          break
        case 'rgba':
          set(i, layer.rgba[i * 4], layer.rgba[i * 4 + 1], layer.rgba[i * 4 + 2], layer.rgba[i * 4 + 3])
          break
      }
    }
  }
  ctx.putImageData(out, 0, 0)
  return canvas
}
