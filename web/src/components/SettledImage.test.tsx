import { fireEvent, render } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { SettledImage } from "./SettledImage";

function shown(container: HTMLElement): HTMLImageElement[] {
  return [...container.querySelectorAll<HTMLImageElement>("img:not([hidden])")];
}

function loading(container: HTMLElement): HTMLImageElement[] {
  return [...container.querySelectorAll<HTMLImageElement>("img[hidden]")];
}

/** The one image of `images`. */
function one(images: HTMLImageElement[]): HTMLImageElement {
  const [image] = images;
  if (images.length !== 1 || !image) throw new Error(`expected one image, found ${images.length}`);
  return image;
}

describe("SettledImage, lazy (a thumbnail in a list)", () => {
  test("is an ordinary lazy image until a source has loaded, so one out of view loads nothing", () => {
    const { container, rerender } = render(<SettledImage src="/files/1.webp" alt="" lazy />);
    expect(shown(container).map((image) => image.getAttribute("src"))).toEqual(["/files/1.webp"]);
    expect(shown(container)[0]?.getAttribute("loading")).toBe("lazy");
    rerender(<SettledImage src="/files/2.webp" alt="" lazy />);
    expect(shown(container).map((image) => image.getAttribute("src"))).toEqual(["/files/2.webp"]);
    expect(loading(container)).toHaveLength(0);
  });

  test("once shown, a newer source loads out of sight and replaces it only once loaded", () => {
    const { container, rerender } = render(<SettledImage src="/files/1.webp" alt="" lazy />);
    fireEvent.load(one(shown(container)));
    rerender(<SettledImage src="/files/2.webp" alt="" lazy />);
    expect(shown(container).map((image) => image.getAttribute("src"))).toEqual(["/files/1.webp"]);
    expect(loading(container).map((image) => image.getAttribute("src"))).toEqual(["/files/2.webp"]);
    fireEvent.error(one(loading(container)));
    expect(shown(container).map((image) => image.getAttribute("src"))).toEqual(["/files/1.webp"]);
    rerender(<SettledImage src="/files/3.webp" alt="" lazy />);
    fireEvent.load(one(loading(container)));
    expect(shown(container).map((image) => image.getAttribute("src"))).toEqual(["/files/3.webp"]);
    expect(loading(container)).toHaveLength(0);
  });
});
