export { seededRandom } from '../../src/main/core/random'
