"""Livestream watching (issue 6): decode a live stream, hash sampled frames, fire on banked
footage with temporal evidence. :class:`bastion.stream.watcher.StreamWatcher` is the entry point."""
