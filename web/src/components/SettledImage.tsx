// The newest latent preview that has loaded. The service keeps only a running task's newest
// preview, so a link can be gone (404) by the time the browser asks for it when steps come
// quickly: the next preview loads out of sight and replaces the shown one only once it is there,
// so a preview that never arrives is never shown as a broken image.
import { useState } from "react";

const previewAlt = "Latest preview of the image being made";

export function LatestPreview({ src }: { src: string }) {
  const [loaded, setLoaded] = useState<string | null>(null);
  return (
    <>
      {loaded && <img className="latent-preview" src={loaded} alt={previewAlt} />}
      {src !== loaded && <img hidden src={src} alt="" onLoad={() => setLoaded(src)} />}
    </>
  );
}
