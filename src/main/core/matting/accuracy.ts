/**
 * The alphamatting.com benchmark's error figures for one photo: SAD = Σ|α − truth| / 1000 over the image,
 * MSE = mean (α − truth)² over the trimap's unknown pixels × 1000 (alpha and truth in 0..1).
 */
export function mattingErrors(alpha: Float32Array, truth: Uint8Array, trimap: Uint8Array): { sad: number; mse: number } {
  let sad = 0
  let se = 0
  let unknown = 0
  for (let p = 0; p < alpha.length; p++) {
    const e = alpha[p] - truth[p] / 255
    sad += Math.abs(e)
    if (trimap[p] === 128) {
      se += e * e
      unknown++
    }
  }
  return { sad: sad / 1000, mse: unknown ? (se / unknown) * 1000 : 0 }
}
