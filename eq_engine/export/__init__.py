"""Model exchange with other tools: bioimage.io model packages (:mod:`.bioimageio`)."""
