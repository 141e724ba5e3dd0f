"""Losses over quantised ab bins (torch): soft targets, class rebalancing, focal loss.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016 — eq. 2 (multinomial
cross-entropy), soft encoding over the 5 nearest bins with a Gaussian (σ = 5), and eq. 3–4 (class
rebalancing, one weight per pixel taken from its nearest bin).
T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense Object Detection",
ICCV 2017 — the modulating factor (1 − p)^γ, used here with soft targets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_encode_torch(ab: torch.Tensor, centres: torch.Tensor, neighbours: int = 5,
                      sigma: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft-encode ab values over their nearest bins (the torch twin of ``bins.soft_encode``).

    Parameters
    ----------
    ab : Tensor, shape (N, 2, H, W)
        True a*, b*.
    centres : Tensor, shape (Q, 2)
        Bin centres.
    neighbours : int
        How many nearest bins share each pixel's mass (Zhang et al.: 5).
    sigma : float
        Width of the Gaussian over the distance to each bin centre (Zhang et al.: 5).

    Returns
    -------
    index : LongTensor, shape (N, K, H, W)
        The K nearest bins, nearest first.
    weight : Tensor, shape (N, K, H, W)
        Their weights, summing to 1 over K.
    """
    n, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    d2 = torch.cdist(flat, centres.float()).pow(2)
    dist2, index = torch.topk(d2, neighbours, dim=1, largest=False)
    weight = torch.softmax(-dist2 / (2.0 * sigma * sigma), dim=1)
    index = index.reshape(n, h, w, neighbours).permute(0, 3, 1, 2)
    weight = weight.reshape(n, h, w, neighbours).permute(0, 3, 1, 2)
    return index, weight


def binned_loss(logits: torch.Tensor, index: torch.Tensor, weight: torch.Tensor,
                class_weights: torch.Tensor | None = None,
                focal_gamma: float = 0.0) -> torch.Tensor:
    """Soft-target cross-entropy over bins, optionally rebalanced per pixel and/or focal.

    ``L = −Σ_pixels v(q*) Σ_k z_k (1 − p_k)^γ log p_k``, averaged over pixels, where ``z`` are the
    soft targets on the K nearest bins, ``q*`` is the nearest bin and ``v`` the class weights
    (Zhang et al. 2016, eq. 2–3); γ = 0 gives plain cross-entropy, γ > 0 the focal loss
    (Lin et al. 2017).

    Parameters
    ----------
    logits : Tensor, shape (N, Q, H, W)
    index, weight : Tensor, shape (N, K, H, W)
        Soft targets from :func:`soft_encode_torch`.
    class_weights : Tensor, shape (Q,), optional
        Rebalancing weight of each bin (normalised so that E[w] = 1 under the training data).
    focal_gamma : float
        Focusing parameter γ ≥ 0.

    Returns
    -------
    Tensor
        Scalar loss.
    """
    logp = F.log_softmax(logits.float(), dim=1)
    logp_k = torch.gather(logp, 1, index)
    term = weight * logp_k
    if focal_gamma > 0:
        term = term * (1.0 - logp_k.exp()).clamp(min=0.0).pow(focal_gamma)
    per_pixel = -term.sum(1)
    if class_weights is not None:
        per_pixel = per_pixel * class_weights[index[:, 0]]
    return per_pixel.mean()


def annealed_mean_torch(logits: torch.Tensor, centres: torch.Tensor,
                        temperature: float = 0.38) -> torch.Tensor:
    """Annealed mean of bin logits (Zhang et al. 2016, eq. 5): (N, Q, H, W) → (N, 2, H, W).

    ``f_T(z) ∝ exp(log z / T)``; with logits that is a softmax of ``logits / T``.
    """
    p = torch.softmax(logits.float() / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", p, centres.float())
