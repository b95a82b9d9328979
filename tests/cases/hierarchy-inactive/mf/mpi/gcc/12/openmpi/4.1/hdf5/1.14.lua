setenv("HDF5_BUILD", "gcc12-openmpi4.1")
