// The API key, entered once and kept in this browser (when the service requires keys).
import { useEffect, useRef, useState, type SyntheticEvent } from "react";

import { readApiKey, writeApiKey } from "../apiKey";

interface Props {
  open: boolean;
  onClose: () => void;
  /** Why it opened by itself (a request was refused), if it did. */
  reason?: string | null;
}

export function ApiKeyDialog({ open, onClose, reason }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [key, setKey] = useState(() => readApiKey() ?? "");

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    writeApiKey(key);
    // A fresh start sends the key on every request and opens the socket with it.
    window.location.reload();
  };

  return (
    <dialog ref={dialog} className="dialog" onClose={onClose} aria-labelledby="api-key-title">
      <form onSubmit={onSubmit}>
        <h2 id="api-key-title">API key</h2>
        {reason && <p className="problem-inline">{reason}</p>}
        <p className="hint">
          <code>kontext create-key</code> prints one. It is kept in this browser only and sent with every request.
        </p>
        <input
          type="password"
          autoComplete="off"
          aria-label="API key"
          placeholder="kx_…"
          value={key}
          onChange={(event) => setKey(event.currentTarget.value)}
        />
        <div className="dialog-actions">
          <button
            type="button"
            className="button ghost"
            onClick={() => {
              writeApiKey(null);
              setKey("");
              window.location.reload();
            }}
          >
            Forget key
          </button>
          <button type="button" className="button secondary" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="button primary">
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
