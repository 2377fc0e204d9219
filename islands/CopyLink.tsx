import { useState } from "preact/hooks";

/** A read-only link with a button that copies it. */
export default function CopyLink(props: { link: string; label: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(props.link);
      setCopied("yes");
    } catch {
      // Without clipboard access, select the text so one keystroke copies it.
      (document.getElementById("referral-link") as HTMLInputElement | null)?.select();
      setCopied("failed");
    }
  }

  return (
    <div class="copy-link">
      <label for="referral-link">{props.label}</label>
      <div class="copy-row">
        <input
          id="referral-link"
          type="text"
          readOnly
          value={props.link}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" class="btn" onClick={copy}>Copy link</button>
      </div>
      <p class="hint" role="status">
        {copied === "yes"
          ? "Copied to your clipboard."
          : copied === "failed"
          ? "Press Ctrl+C (⌘C) to copy."
          : ""}
      </p>
    </div>
  );
}
