// The result over the reference, split by a slider: drag it (or use the arrow keys) to compare.
// Both images take the result's shape (`width` × `height`): the reference is cropped to it around
// its centre, as the workflow crops it, so the two line up.
import { useState } from "react";

interface Props {
  before: string;
  after: string;
  alt: string;
  /** The result's size in pixels. */
  width: number;
  height: number;
}

export function BeforeAfter({ before, after, alt, width, height }: Props) {
  const [split, setSplit] = useState(50);
  const style = { "--split": `${split}%`, "--aspect": `${width / height}` } as React.CSSProperties;
  return (
    <div className="before-after" style={style}>
      <img className="before" src={before} alt="Reference (before)" />
      <img className="after" src={after} alt={alt} />
      <div className="split-line" aria-hidden="true" />
      <span className="tag tag-before" aria-hidden="true">
        Before
      </span>
      <span className="tag tag-after" aria-hidden="true">
        After
      </span>
      <input
        className="split-slider"
        type="range"
        min={0}
        max={100}
        value={split}
        aria-label="Before and after: share of the result shown"
        onChange={(event) => setSplit(Number(event.currentTarget.value))}
      />
    </div>
  );
}
