// The settings form: its fields filled from the backend's view, and the
// backend's refusals turned into a message per field.

import { BackendError, type SettingsInput, type SettingsView } from "./backend";

export type FieldName = keyof SettingsInput;

export function formFrom(view: SettingsView): SettingsInput {
  return {
    redis_url: view.redis_url,
    library: view.library,
    default_engine: view.default_engine,
    default_language: view.default_language,
    workers: String(view.workers),
  };
}

/** Messages by field; a refusal not about one field goes under "form". */
export function fieldMessages(error: unknown): Partial<Record<FieldName | "form", string>> {
  if (error instanceof BackendError) {
    if (error.fields.length === 0) return { form: error.message };
    const messages: Partial<Record<FieldName | "form", string>> = {};
    for (const field of error.fields) {
      messages[field.field as FieldName] = field.message;
    }
    return messages;
  }
  return { form: error instanceof Error ? error.message : String(error) };
}
