module github.com/kindmps/kindmps-api/bindings/go

go 1.19
