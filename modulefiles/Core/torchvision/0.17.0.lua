-- torchvision 0.17.0: Datasets, models and image transforms for PyTorch (sample build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
torchvision 0.17.0 (sample build): Datasets, models and image transforms for PyTorch.

Provides the Python package torchvision_demo, importable once the module is loaded:

    python3 -c 'import torchvision_demo; print(torchvision_demo.__version__)'

Loads torch with it: torchvision_demo imports torch_demo.
]])

whatis("Name: torchvision")
whatis("Version: 0.17.0")
whatis("Description: Datasets, models and image transforms for PyTorch")
whatis("Category: Python, Library")
whatis("Keywords: python, deep learning, computer vision, images, AI")
whatis("URL: https://pytorch.org/vision/")

depends_on("torch")

-- This file is <tree>/Core/torchvision/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "torchvision", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
