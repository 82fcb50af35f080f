package main

// Temporary placeholder contract, replaced by the real chaincode package.

import (
	"fmt"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

type placeholder struct{ contractapi.Contract }

func (placeholder) Put(ctx contractapi.TransactionContextInterface, key, value string) error {
	return ctx.GetStub().PutState(key, []byte(value))
}

func (placeholder) Get(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	b, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", err
	}
	if b == nil {
		return "", fmt.Errorf("NOT_FOUND: %s", key)
	}
	return string(b), nil
}

func newChaincode(string) (*contractapi.ContractChaincode, error) {
	c := new(placeholder)
	c.Name = "cases"
	return contractapi.NewChaincode(c)
}
