"""Pixel size from image files: OME, SVS, ImageJ and resolution tags; dpi defaults ignored."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from eq_engine.io.images import write_image
from eq_engine.io.pixel_size import _ome_pixel_size, _svs_mpp, file_pixel_size


def test_metadata_parsers():
    assert _svs_mpp("Aperio Image Library v12\r\n46000x32914 (256x256) JPEG/RGB Q=70|"
                    "AppMag = 20|MPP = 0.4990|Filename = x") == pytest.approx(0.499)
    assert _svs_mpp("Aperio Image Library v12|AppMag = 20") is None
    xml = ('<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image><Pixels '
           'PhysicalSizeX="250" PhysicalSizeXUnit="nm" SizeX="4"/></Image></OME>')
    assert _ome_pixel_size(xml) == pytest.approx(0.25)
    assert _ome_pixel_size(xml.replace(' PhysicalSizeXUnit="nm"', "")) == 250.0  # default µm
    assert _ome_pixel_size("<OME><Image><Pixels SizeX='4'/></Image></OME>") is None


def test_field_files(tmp_path):
    image = np.zeros((32, 32, 3), np.uint8)
    tifffile.imwrite(tmp_path / "cm.tif", image, resolution=(20000, 20000), resolutionunit=3)
    assert file_pixel_size(tmp_path / "cm.tif") == pytest.approx(0.5)  # 20000 px per cm
    tifffile.imwrite(tmp_path / "ij.tif", image[..., 0], imagej=True, resolution=(4.0, 4.0),
                     metadata={"unit": "micron"})
    assert file_pixel_size(tmp_path / "ij.tif") == pytest.approx(0.25)
    tifffile.imwrite(tmp_path / "ome.tif", image, ome=True,
                     metadata={"PhysicalSizeX": 0.1, "PhysicalSizeXUnit": "µm"})
    assert file_pixel_size(tmp_path / "ome.tif") == pytest.approx(0.1)
    # a print resolution (300 dpi = 85 µm/px) is not a microscope's pixel size
    tifffile.imwrite(tmp_path / "dpi.tif", image, resolution=(300, 300), resolutionunit=2)
    assert file_pixel_size(tmp_path / "dpi.tif") is None
    tifffile.imwrite(tmp_path / "none.tif", image)
    assert file_pixel_size(tmp_path / "none.tif") is None
    write_image(tmp_path / "field.png", image)
    assert file_pixel_size(tmp_path / "field.png") is None
    (tmp_path / "bad.tif").write_bytes(b"not a tiff")
    assert file_pixel_size(tmp_path / "bad.tif") is None
