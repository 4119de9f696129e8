"""EQ studio: the napari plugin (docks, samples, mask writer) and the ``eq-gui`` launcher.

Importing this package is cheap and imports neither Qt, napari nor torch: napari imports
plugins at start-up. Docks load when opened; torch only ever loads in EQ's worker processes
(see :mod:`eq_gui.workers`).
"""
