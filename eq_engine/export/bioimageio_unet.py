"""Architecture source shipped inside EQ's bioimage.io packages (standalone: no EQ import).

``EQUNet`` rebuilds EQ's U-Net exactly as ``eq_engine.models.unet.build_unet`` does (a fastai
``DynamicUnet`` over a torchvision ResNet body, random init) and returns the foreground
probability (softmax over the two classes), shape ``(B, 1, Y, X)``. Needs torch, torchvision
and fastai.
"""

import torch


class EQUNet(torch.nn.Module):
    def __init__(self, arch: str = "resnet34", in_channels: int = 3, n_classes: int = 2):
        super().__init__()
        import torchvision
        from fastai.vision.learner import create_body
        from fastai.vision.models.unet import DynamicUnet

        body = create_body(getattr(torchvision.models, arch)(weights=None), n_in=in_channels,
                           pretrained=False, cut=-2)
        self.unet = DynamicUnet(body, n_classes, (64, 64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.unet(x).as_subclass(torch.Tensor).float()
        return torch.softmax(logits, dim=1)[:, 1:2]
