; Definitions, imports for Python. Captures: @definition.<kind> on the whole
; definition node, @name on its name; @import on import statements.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (expression_statement (assignment left: (identifier) @name) @definition.variable))
(class_definition
  body: (block (expression_statement (assignment left: (identifier) @name) @definition.field)))
(import_statement) @import
(import_from_statement) @import
