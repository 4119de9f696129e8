"""File input/output: images, datasets, model files. Heavy libraries load on first use."""
