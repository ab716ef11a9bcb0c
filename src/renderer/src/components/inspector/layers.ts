// How each kind of layer is drawn over a photo. Layers are gray images (mask, trimap, alpha, probability)
// or ready-made RGBA overlays (error maps); each becomes an RGBA canvas once, then only opacity changes.

export type LayerKind = 'mask' | 'trimap' | 'alpha' | 'probability' | 'rgba'

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
            const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 || values[i - 1] < 128 || values[i + 1] < 128 || values[i - width] < 128 || values[i + width] < 128
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
