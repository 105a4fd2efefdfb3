// The API key a person enters once (when the service requires keys), kept in the browser.
const storageKey = "kontext.apiKey";

export function readApiKey(): string | null {
  try {
    return window.localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

export function writeApiKey(key: string | null): void {
  const trimmed = key?.trim() ?? "";
  if (trimmed) {
    window.localStorage.setItem(storageKey, trimmed);
  } else {
    window.localStorage.removeItem(storageKey);
  }
}

/** The `Authorization` value for the stored key, or null when none is stored. */
export function authorizationHeader(key: string | null = readApiKey()): string | null {
  if (!key) return null;
  return /^bearer\s/i.test(key) ? key : `Bearer ${key}`;
}
