// A tiny typed event hub: the service emits, each host forwards to its windows or browsers.
import type { EventName, LeafsegEvents } from '../../../shared/api'

export type EventListener = <E extends EventName>(event: E, payload: LeafsegEvents[E]) => void

export class EventHub {
  private readonly listeners = new Set<EventListener>()

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit<E extends EventName>(event: E, payload: LeafsegEvents[E]): void {
    for (const l of this.listeners) l(event, payload)
  }
}
