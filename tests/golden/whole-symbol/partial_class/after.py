"""Inventory helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0

    def total(self) -> float:
        return self.price * self.quantity

    def label(self) -> str:
        return f"{self.name} x{self.quantity}"


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def add(self, item: Item) -> None:
        if item.name in self.items:
            self.items[item.name].quantity += item.quantity
            return
        self.items[item.name] = item

    def remove(self, name: str) -> Item:
        return self.items.pop(name)

    def value(self) -> float:
        total = 0.0
        for item in self.items.values():
            total += item.total()
        return total

    def dump(self) -> str:
        data = {name: [item.price, item.quantity] for name, item in self.items.items()}
        return json.dumps(data, sort_keys=True)


def load(text: str) -> Inventory:
    inventory = Inventory()
    for name, (price, quantity) in json.loads(text).items():
        inventory.add(Item(name, price, quantity))
    return inventory


class Archive(Inventory):
    def add(self, item: Item) -> None:
        if item.name in self.items:
            raise ValueError(f"duplicate item {item.name}")
        self.items[item.name] = item
