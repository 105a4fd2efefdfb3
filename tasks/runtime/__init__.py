"""The ComfyUI side: backends, their event streams and trackers, the dispatcher, and how a prompt ends."""
