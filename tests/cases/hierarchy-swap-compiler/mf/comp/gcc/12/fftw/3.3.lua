setenv("FFTW_BUILD", "gcc12")
