"""Creative assets: bounded retrieval, per-client content-addressed stores, images without
embedded metadata, a manifest per asset, and retention."""

from generator.creatives.images import ImageInfo, ImageRejected, inspect, thumbnail
from generator.creatives.manifest import clean_url
from generator.creatives.retention import Pruned, last_ran, prune, shown_by
from generator.creatives.retrieve import THUMBNAIL, Limits, retrieve_assets
from generator.creatives.scrub import strip_metadata
from generator.creatives.store import AssetStore, StoredAsset

__all__ = [
    "THUMBNAIL",
    "AssetStore",
    "ImageInfo",
    "ImageRejected",
    "Limits",
    "Pruned",
    "StoredAsset",
    "clean_url",
    "inspect",
    "last_ran",
    "prune",
    "retrieve_assets",
    "shown_by",
    "strip_metadata",
    "thumbnail",
]
