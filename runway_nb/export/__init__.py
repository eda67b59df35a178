"""Writing clips and films to files: video (ffmpeg), OpenTimelineIO, the film JSON."""
