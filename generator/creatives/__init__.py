"""Creative assets: bounded retrieval, per-client content-addressed stores, images without
embedded metadata (with their perceptual hash and colours), a manifest per asset, retention,
and creatives' versions and reused images."""

from generator.creatives.images import (
    Examined,
    ImageFeatures,
    ImageInfo,
    ImageRejected,
    examine,
    features,
    inspect,
    thumbnail,
)
from generator.creatives.manifest import clean_url
from generator.creatives.retention import Pruned, last_ran, prune, shown_by
from generator.creatives.retrieve import THUMBNAIL, Limits, retrieve_assets
from generator.creatives.scrub import strip_metadata
from generator.creatives.store import AssetStore, StoredAsset
from generator.creatives.versions import history, reuse_groups

__all__ = [
    "THUMBNAIL",
    "AssetStore",
    "Examined",
    "ImageFeatures",
    "ImageInfo",
    "ImageRejected",
    "Limits",
    "Pruned",
    "StoredAsset",
    "clean_url",
    "examine",
    "features",
    "history",
    "inspect",
    "last_ran",
    "prune",
    "retrieve_assets",
    "reuse_groups",
    "shown_by",
    "strip_metadata",
    "thumbnail",
]
