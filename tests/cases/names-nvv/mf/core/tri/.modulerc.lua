module_version("tri/2.0/cuda", "default")
