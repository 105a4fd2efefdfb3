// An image whose source changes while it is shown (a running task's newest latent preview): the
// next source loads out of sight and replaces the shown one only once it is there. The service
// keeps only a running task's newest preview, so a link can be gone (404) by the time the
// browser asks for it when steps come quickly; such a source is never shown as a broken image.
//
// `lazy` (a thumbnail in a long list): until one source has loaded, the image is an ordinary
// lazily loaded one, so a thumbnail out of view loads nothing, whatever its source becomes.
import { useState } from "react";

interface Props {
  src: string;
  alt: string;
  className?: string;
  lazy?: boolean;
}

export function SettledImage({ src, alt, className, lazy = false }: Props) {
  const [loaded, setLoaded] = useState<string | null>(null);
  const shown = loaded ?? (lazy ? src : null);
  return (
    <>
      {shown && (
        <img
          className={className}
          src={shown}
          alt={alt}
          loading={lazy ? "lazy" : undefined}
          onLoad={() => setLoaded(shown)}
        />
      )}
      {src !== shown && <img hidden src={src} alt="" onLoad={() => setLoaded(src)} />}
    </>
  );
}
