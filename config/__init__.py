"""Settings, the source catalogue and the offline demo samples."""
