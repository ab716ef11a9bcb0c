// Entry of a helper process that mattes photos for a batch, so batch matting uses a second core.
// Messages: { id, item } in; { id, result } or { id, error } out.
import { errorMessage } from '../../../shared/errors'
import { matteFile, type MatteItem } from './files'

process.on('message', async (m: { id: number; item: MatteItem }) => {
  try {
    process.send?.({ id: m.id, result: await matteFile(m.item) })
  } catch (err) {
    process.send?.({ id: m.id, error: errorMessage(err) })
  }
})
process.on('disconnect', () => process.exit(0))
