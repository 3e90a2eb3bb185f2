module quack.example/factorize

go 1.19
