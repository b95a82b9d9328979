pushenv("MPICC", "mpicc-a")
