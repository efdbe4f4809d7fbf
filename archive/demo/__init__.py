"""Demo archive generator with planted truths (`build_demo`) and its truth manifest (`read_manifest`)."""

from icp_mcp.archive.demo.generate import SIZES, build_demo
from icp_mcp.archive.demo.manifest import Manifest, manifest_path, read_manifest

__all__ = ["SIZES", "Manifest", "build_demo", "manifest_path", "read_manifest"]
