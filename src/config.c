/* config file parser: being written */
