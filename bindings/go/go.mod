module kindmps.dev/kindmps

go 1.19
