load("libx")
setenv("BUNDLE", "1")
