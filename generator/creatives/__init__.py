"""Creative assets: bounded retrieval, a content-addressed store, safe image handling."""

from generator.creatives.images import ImageInfo, ImageRejected, inspect, thumbnail
from generator.creatives.retrieve import THUMBNAIL, Limits, retrieve_assets
from generator.creatives.store import AssetStore

__all__ = [
    "THUMBNAIL",
    "AssetStore",
    "ImageInfo",
    "ImageRejected",
    "Limits",
    "inspect",
    "retrieve_assets",
    "thumbnail",
]
