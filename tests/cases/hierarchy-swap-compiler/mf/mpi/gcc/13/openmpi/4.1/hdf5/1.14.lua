setenv("HDF5_BUILD", "gcc13-openmpi4.1")
