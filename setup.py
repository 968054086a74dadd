"""Copy the top-level resources/ into the package when building a wheel, so that an
installed Backprop Lab finds its presets, lessons and icons (see backprop_lab.resources).

The sdist carries resources/ (MANIFEST.in), so a wheel built from it gets them too. A
build without them fails here, loudly: a wheel without presets installs fine and then
fails at start-up ("resources folder is missing")."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: what an installed Backprop Lab cannot run without (each folder must hold these files)
REQUIRED = {"presets": "*.json", "lessons": "*.json", "icons": "backprop-lab.svg"}


def check_resources(src: Path) -> None:
    missing = [f"{sub}/{pattern}" for sub, pattern in REQUIRED.items()
               if not any((src / sub).glob(pattern))]
    if missing:
        raise SystemExit(
            f"setup.py: error: {src} lacks {', '.join(missing)}: build from a checkout or "
            "from an sdist made by `python -m build` (MANIFEST.in includes resources/)")


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        src = HERE / "resources"
        check_resources(src)
        dst = Path(self.build_lib) / "backprop_lab" / "resources"
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)


setup(cmdclass={"build_py": BuildPyWithResources})
