"""A small segmentation-and-classification network in the spirit of U^2-Net, in PyTorch.

U^2-Net (Qin et al., 2020), the model the source post converts, is a U-shaped encoder and
decoder whose blocks are themselves small U-Nets: convolutions with BatchNorm and ReLU,
max-pooling on the way down, dilated convolutions at the bottom, bilinear upsampling on the
way up, and skip connections that concatenate encoder and decoder features on the channel
axis. :class:`TinyU2Net` keeps exactly those ingredients, at a size that trains in a minute
on two CPU cores:

=========  ==========================================================  ===============
stage      layers                                                      output (NCHW)
=========  ==========================================================  ===============
enc1       3x3 conv + BN + ReLU                                        C1 x S x S
enc2       max-pool /2, 3x3 depthwise conv, 1x1 conv + BN + ReLU      C2 x S/2 x S/2
enc3       max-pool /2, 3x3 conv with dilation 2 + BN + ReLU          C2 x S/4 x S/4
dec2       bilinear x2, concat with enc2, 3x3 conv + BN + ReLU        C2 x S/2 x S/2
dec1       bilinear x2, concat with enc1, 3x3 conv + BN + ReLU        C1 x S x S
mask       1x1 conv, sigmoid                                          1 x S x S
classes    average-pool to 4 x 4, flatten, linear                     17
=========  ==========================================================  ===============

The classification head flattens a 4 x 4 feature map, not a 1 x 1 one, on purpose: PyTorch
flattens in (C, H, W) order, so a converter that moves the graph to NHWC has to put the
values back into that order before the linear layer (one TRANSPOSE), which notebook 08
shows in every converted file. ``head_grid=1`` pools globally instead (any image size,
and no TRANSPOSE: a 1 x 1 map has the same order in both layouts), which is exercise 1
of the notebook; ``mask_channels`` gives the mask head more than one output map (the
training in :mod:`~edgelab.pytorch.training` expects one).

``forward`` returns ``(mask, logits)``: the per-pixel probability that a pixel belongs to
the flower, and the class scores (before softmax).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

HEAD_GRID = 4   # the classification head pools the bottom feature map to HEAD_GRID x HEAD_GRID


class ConvBNReLU(nn.Sequential):
    """3x3 convolution (optionally dilated), BatchNorm, ReLU; keeps the spatial size."""

    def __init__(self, cin: int, cout: int, dilation: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class SeparableBNReLU(nn.Sequential):
    """3x3 depthwise convolution, then 1x1 convolution, BatchNorm, ReLU (MobileNet style)."""

    def __init__(self, cin: int, cout: int):
        super().__init__(
            nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class TinyU2Net(nn.Module):
    """Segmentation mask and class scores from an RGB image, NCHW ``[N, 3, S, S]``.

    ``image_size`` (S) must be a multiple of ``4 * head_grid``; ``width`` is C1 (C2 = 2 C1);
    ``head_grid``: the side of the map the classification head pools the bottom features
    to before flattening (1: global average pooling, for any image size);
    ``mask_channels``: output maps of the mask head.
    """

    def __init__(self, image_size: int, num_classes: int = 17, width: int = 16, *,
                 head_grid: int = HEAD_GRID, mask_channels: int = 1):
        super().__init__()
        if head_grid < 1 or image_size % (4 * head_grid):
            raise ValueError(f"image_size must be a multiple of 4 * head_grid = {4 * head_grid}, "
                             f"got {image_size} (head_grid {head_grid})")
        c1, c2 = width, 2 * width
        self.image_size = image_size
        self.head_grid = head_grid
        self.enc1 = ConvBNReLU(3, c1)
        self.enc2 = SeparableBNReLU(c1, c2)
        self.enc3 = ConvBNReLU(c2, c2, dilation=2)
        self.dec2 = ConvBNReLU(2 * c2, c2)
        self.dec1 = ConvBNReLU(c2 + c1, c1)
        self.mask_head = nn.Conv2d(c1, mask_channels, 1)
        self.head_pool = (nn.AdaptiveAvgPool2d(1) if head_grid == 1
                          else nn.AvgPool2d(image_size // 4 // head_grid))
        self.classifier = nn.Linear(c2 * head_grid * head_grid, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([F.interpolate(e3, scale_factor=2, mode="bilinear",
                                                align_corners=False), e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="bilinear",
                                                align_corners=False), e1], dim=1))
        mask = torch.sigmoid(self.mask_head(d1))
        logits = self.classifier(torch.flatten(self.head_pool(e3), 1))
        return mask, logits
