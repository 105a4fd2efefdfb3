// The reference image: drop a file, paste one, pick one, give an address, or reuse an earlier
// upload. Each new image is stored at once with uploadImage, so the task refers to it by id; a file
// the service refuses shows the service's typed error in words.
import { useMutation } from "@apollo/client/react";
import { useEffect, useEffectEvent, useId, useState, type DragEvent } from "react";

import { describeError, type Problem } from "../errors";
import { formatBytes, formatImageType } from "../format";
import type { ImageFieldsFragment, ImageInput } from "../gql/graphql";
import { UploadImageMutation } from "../operations";
import { EarlierUploads } from "./EarlierUploads";
import { Icon } from "./Icon";
import { ProblemMessage } from "./ProblemMessage";

interface Props {
  image: ImageFieldsFragment | null;
  onChange: (image: ImageFieldsFragment | null) => void;
}

function imageFile(files: FileList | null | undefined): File | null {
  return files?.[0] ?? null;
}

export function ReferencePicker({ image, onChange }: Props) {
  const inputId = useId();
  const [upload, { loading }] = useMutation(UploadImageMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [dragging, setDragging] = useState(false);
  const [address, setAddress] = useState("");

  const store = async (input: ImageInput) => {
    setProblem(null);
    try {
      const { data } = await upload({ variables: { image: input } });
      if (data) onChange(data.uploadImage);
    } catch (error) {
      setProblem(describeError(error));
    }
  };
  const onPaste = useEffectEvent((event: ClipboardEvent) => {
    const file = imageFile(event.clipboardData?.files);
    if (!file) return;
    event.preventDefault();
    void store({ upload: file });
  });

  useEffect(() => {
    const listener = (event: ClipboardEvent) => onPaste(event);
    document.addEventListener("paste", listener);
    return () => document.removeEventListener("paste", listener);
  }, []);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = imageFile(event.dataTransfer.files);
    if (file) void store({ upload: file });
  };

  const onAddress = () => {
    const url = address.trim();
    if (url) void store({ url });
  };

  return (
    <section className="reference" aria-labelledby={`${inputId}-title`}>
      <div className="section-title" id={`${inputId}-title`}>
        <Icon name="image" /> Reference
      </div>
      <div
        className={`dropzone${dragging ? " dragging" : ""}${image ? " has-image" : ""}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-busy={loading}
      >
        {image ? (
          <figure className="reference-figure">
            <img src={image.url} alt="Reference image preview" />
            <figcaption>
              {image.width} × {image.height} · {formatBytes(image.size)} · {formatImageType(image.contentType)}
            </figcaption>
          </figure>
        ) : (
          <div className="dropzone-hint">
            <Icon name="upload" size={28} />
            <span>Drop an image here, paste one, or</span>
          </div>
        )}
        <div className="dropzone-actions">
          <label className="button secondary" htmlFor={inputId}>
            {image ? "Replace…" : "Choose a file…"}
          </label>
          <input
            id={inputId}
            className="visually-hidden"
            type="file"
            accept="image/png,image/jpeg,image/webp"
            aria-label="Reference image"
            onChange={(event) => {
              const file = imageFile(event.currentTarget.files);
              event.currentTarget.value = "";
              if (file) void store({ upload: file });
            }}
          />
          {image && (
            <button
              type="button"
              className="button ghost"
              onClick={() => {
                setProblem(null);
                onChange(null);
              }}
            >
              Clear
            </button>
          )}
        </div>
        {loading && <div className="dropzone-busy">Uploading…</div>}
      </div>
      {/* Not a <form>: this sits inside the edit form, and forms do not nest. */}
      <div className="address-row">
        <Icon name="link" />
        <input
          type="url"
          placeholder="…or an image address (https://)"
          aria-label="Image address"
          value={address}
          onChange={(event) => setAddress(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              onAddress();
            }
          }}
        />
        <button type="button" className="button secondary" disabled={!address.trim() || loading} onClick={onAddress}>
          Fetch
        </button>
      </div>
      <EarlierUploads
        onChoose={(chosen) => {
          setProblem(null);
          onChange(chosen);
        }}
      />
      {problem && <ProblemMessage problem={problem} />}
    </section>
  );
}
