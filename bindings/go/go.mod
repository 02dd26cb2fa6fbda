module valkeyaddon

go 1.19
