"""The embedded toy-world model: its pipeline, training and evaluation.

The window sizes live here, not in pipeline.py, so that the engine list can describe the
tiny engine without importing diffusers.
"""

WINDOW = 16     # frames the denoiser sees at once
CONTEXT = 4     # frames carried into the next window when a clip is longer than one window
