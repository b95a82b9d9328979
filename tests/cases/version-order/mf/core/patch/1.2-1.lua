setenv("PATCHV", myModuleFullName())
