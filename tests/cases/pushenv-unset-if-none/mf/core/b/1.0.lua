pushenv("MPICC", "mpicc-b")
