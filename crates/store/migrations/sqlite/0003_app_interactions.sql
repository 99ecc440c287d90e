-- The interactions each account's app can run (JSON array of RP API names). Apps registered
-- before this column existed run all four.
ALTER TABLE accounts ADD COLUMN interactions TEXT NOT NULL
    DEFAULT '["displayTextAndPIN","verificationCodeChoice","confirmationMessage","confirmationMessageAndVerificationCodeChoice"]';
