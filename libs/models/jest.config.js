module.exports = require('../testing/jest.preset')(__dirname, { testEnvironment: `${__dirname}/jest.onnx-environment.js` });
