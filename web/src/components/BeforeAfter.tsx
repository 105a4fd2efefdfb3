// The result over the reference, split by a slider: drag it (or use the arrow keys) to compare.
import { useState } from "react";

interface Props {
  before: string;
  after: string;
  alt: string;
}

export function BeforeAfter({ before, after, alt }: Props) {
  const [split, setSplit] = useState(50);
  return (
    <div className="before-after" style={{ "--split": `${split}%` } as React.CSSProperties}>
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
