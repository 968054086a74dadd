"""Copy the top-level resources/ into the package when building a wheel, so that an
installed Backprop Lab finds its presets, lessons and icons (see backprop_lab.resources)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        src = Path(__file__).parent / "resources"
        dst = Path(self.build_lib) / "backprop_lab" / "resources"
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)


setup(cmdclass={"build_py": BuildPyWithResources})
