// Preload (`node --import`) that gives a plain Node child the `process.parentPort` of an Electron utility
// process, over Node's IPC channel: messages arrive as { data } events and leave through postMessage,
// with structured clone as in Electron (the parent forks with serialization: 'advanced').
import { EventEmitter } from 'node:events'

if (!process.send) throw new Error('parent-port.mjs: this process has no IPC channel (fork it with one).')
const parentPort = new EventEmitter()
parentPort.postMessage = (message) => process.send(message)
parentPort.start = () => {}
// Listening to the IPC channel from a preload module loses its messages: listen once the entry listens.
parentPort.once('newListener', (event) => {
  if (event !== 'message') return
  process.on('message', (data) => parentPort.emit('message', { data, ports: [] }))
  // A utility process ends with its parent.
  process.on('disconnect', () => process.exit(0))
})
process.parentPort = parentPort
